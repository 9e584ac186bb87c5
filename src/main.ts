console.log("integrityd");
